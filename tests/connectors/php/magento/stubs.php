<?php
/**
 * The few Magento 2 classes the Bluepaid_Hub module uses, reduced to what its redirect
 * logic touches (signatures as in Magento 2.4). For magento_test.php only.
 */

namespace Magento\Framework\Component {
    class ComponentRegistrar
    {
        const MODULE = 'module';
        public static $registered = array();

        public static function register($type, $name, $path)
        {
            self::$registered[] = array($type, $name, $path);
        }
    }
}

namespace Magento\Framework {
    class DataObject
    {
        private $data = array();

        public function __call($method, $args)
        {
            $key = strtolower(preg_replace('/(?<!^)[A-Z]/', '_$0', substr($method, 3)));
            if (strpos($method, 'set') === 0) {
                $this->data[$key] = $args[0];
                return $this;
            }
            return isset($this->data[$key]) ? $this->data[$key] : null;
        }
    }
}

namespace Magento\Payment\Model\Method {
    abstract class AbstractMethod
    {
        protected $_code;
        protected $_isInitializeNeeded = false;
        protected $_canUseInternal = true;

        public function getCode()
        {
            return $this->_code;
        }

        public function isInitializeNeeded()
        {
            return $this->_isInitializeNeeded;
        }
    }
}

namespace Magento\Sales\Model {
    class Order extends \Magento\Framework\DataObject
    {
        const STATE_PENDING_PAYMENT = 'pending_payment';
    }
}

namespace Magento\Checkout\Model {
    class Session
    {
        public $order;

        public function getLastRealOrder()
        {
            return $this->order;
        }
    }
}

namespace Magento\Framework\App\Action {
    interface HttpGetActionInterface
    {
        public function execute();
    }
}

namespace Magento\Framework\App\Config {
    interface ScopeConfigInterface
    {
        public function getValue($path, $scopeType = 'default', $scopeCode = null);
    }
}

namespace Magento\Store\Model {
    interface ScopeInterface
    {
        const SCOPE_STORE = 'store';
    }
}

namespace Magento\Framework\Controller\Result {
    class Redirect
    {
        public $path;
        public $url;

        public function setPath($path)
        {
            $this->path = $path;
            return $this;
        }

        public function setUrl($url)
        {
            $this->url = $url;
            return $this;
        }
    }

    class RedirectFactory
    {
        public function create()
        {
            return new Redirect();
        }
    }
}
